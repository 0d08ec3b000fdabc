#!/bin/sh
# Coffer emergency restore: no Coffer, no node. Needs a POSIX sh, `age`, `tar` and coreutils
# (and `gzip` for sources backed up with `compression: gzip`).
#
#   sh restore.sh DESTINATION_FOLDER SOURCE TARGET_DIR [BACKUP_ID]
#
# Restores the newest backup of SOURCE (or BACKUP_ID) from DESTINATION_FOLDER, a local copy of a
# Coffer destination (the folder that holds `coffer/`), into TARGET_DIR, which must not exist or
# be empty. Reads both formats of packages/crypto/SPEC.md: single-file backups
# (coffer/SOURCE/ID.age, §3-§6) and chunked backups (coffer/SOURCE-ID/backups/ID.age and
# coffer/SOURCE-ID/chunks/CHUNK.age, §9-§12). Uses identity.txt beside this script.
#
# What it checks: age authenticates every object it decrypts; each chunk's SHA-256 and length are
# checked against the manifest before the chunk is used, and so are the manifest's end counts.
# What it cannot check: the `coffer` stanza's MAC (it needs an HMAC key, not in this kit), so a
# backup forged by someone holding the public recipient (a write-only key) would pass here.
# `coffer restore` checks that too.
#
# Extraction goes to TARGET_DIR.partial-PID beside TARGET_DIR, moved into place only when
# everything succeeded; on any failure it is removed and one line on stderr says why.

set -u
LC_ALL=C
export LC_ALL
user_umask=$(umask)
umask 077

die() {
  printf 'restore.sh: %s\n' "$*" >&2
  exit 1
}

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  printf 'usage: sh restore.sh DESTINATION_FOLDER SOURCE TARGET_DIR [BACKUP_ID]\n' >&2
  exit 2
fi
dest=$1
source=$2
target=$3
wanted=${4-}

for tool in age tar head tail od base64 sha256sum wc tr sort ls mkdir mv rm rmdir chmod cat dirname basename; do
  command -v "$tool" >/dev/null 2>&1 || die "needs '$tool' on PATH"
done

kit=$(dirname -- "$0")
identity=$kit/identity.txt
[ -r "$identity" ] || die "no readable identity.txt beside this script ($identity)"
[ -d "$dest" ] || die "no such folder: $dest"

# Source names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (the
# config's rule): they are object-name segments and appear verbatim in the metadata JSON.
case $source in
  '' | [!A-Za-z0-9]* | *[!A-Za-z0-9._-]*) die "not a Coffer source name: '$source'" ;;
esac
[ "${#source}" -le 64 ] || die "not a Coffer source name (over 64 characters): '$source'"
if [ -n "$wanted" ]; then
  case $wanted in
    . | .. | *[!A-Za-z0-9._-]*) die "not a backup id: '$wanted'" ;;
  esac
  [ "${#wanted}" -le 64 ] || die "not a backup id (over 64 characters): '$wanted'"
fi

while :; do
  case $target in
    / | '') die "not a usable target folder: '$target'" ;;
    */) target=${target%/} ;;
    *) break ;;
  esac
done
# Absolute, so that tar, which runs inside the new folder, still finds the work files.
parent=$(dirname -- "$target")
parent=$(cd -- "$parent" 2>/dev/null && pwd) || die "the folder that would hold $target does not exist"
target=${parent%/}/$(basename -- "$target")
if [ -e "$target" ] || [ -L "$target" ]; then
  if [ ! -d "$target" ] || [ -L "$target" ]; then die "$target exists and is not a folder"; fi
  [ -z "$(ls -A -- "$target")" ] || die "$target is not empty: restore into a new or empty folder"
fi

# The key id, from the comment line `coffer key export-age` writes: backups made with other keys
# are then left alone. A bare identity file (no comment) matches any key id.
keyid=
while IFS= read -r line; do
  case $line in
    '# Coffer backup key '*)
      rest=${line#'# Coffer backup key '}
      keyid=${rest%% *}
      break
      ;;
  esac
done <"$identity"

hex64() {
  [ "${#1}" -eq 64 ] || return 1
  case $1 in *[!0-9a-f]*) return 1 ;; esac
}

# Prints "KEYID METADATA-JSON" from an age header's `-> coffer 1 KEYID MAC` stanza (SPEC §4): its
# body is the metadata as unpadded base64, in lines of 64 columns ended by a shorter line. Only
# the header is read (at most 64 KiB); the binary payload after the `---` line never is.
header_meta() {
  head -c 65536 -- "$1" | {
    IFS= read -r line || exit 1
    [ "$line" = age-encryption.org/v1 ] || exit 1
    kid='' body='' state=0 n=0
    while IFS= read -r line; do
      n=$((n + 1))
      [ "$n" -le 1100 ] || exit 1
      case $line in
        '--- '*) break ;;
        '-> coffer 1 '*)
          rest=${line#'-> coffer 1 '}
          kid=${rest%% *}
          state=1
          continue
          ;;
        '-> '*)
          [ "$state" = 1 ] && exit 1
          continue
          ;;
      esac
      if [ "$state" = 1 ]; then
        body=$body$line
        [ "${#line}" -lt 64 ] && state=2
      fi
    done
    [ "$state" = 2 ] || exit 1
    case $((${#body} % 4)) in
      1) exit 1 ;;
      2) body=$body== ;;
      3) body=$body= ;;
    esac
    json=$(printf '%s' "$body" | base64 -d 2>/dev/null) || exit 1
    printf '%s %s\n' "$kid" "$json"
  }
}

# True when META (from header_meta) is a backup of SOURCE with format $2 and backup id $3, made
# with this kit's key. metadata JSON (SPEC §5) is {"format":F,"backupId":"…","source":"…",…}.
meta_matches() {
  meta=$1
  [ -n "$meta" ] || return 1
  mkid=${meta%% *}
  json=${meta#* }
  [ -z "$keyid" ] || [ "$mkid" = "$keyid" ] || return 1
  case $json in '{"format":'"$2"',"'*) ;; *) return 1 ;; esac
  case $json in *',"backupId":"'"$3"'",'*) ;; *) return 1 ;; esac
  case $json in *',"source":"'"$source"'",'*) ;; *) return 1 ;; esac
}

# Layout: `coffer/…` folders (a local destination, `aws s3 sync`), or flat files named
# `coffer／…` (`rclone copy` from Drive, whose object names contain `/`: rclone writes them with
# U+FF0F FULLWIDTH SOLIDUS).
if [ -d "$dest/coffer" ]; then
  sep=/
else
  sep=$(printf '\357\274\217')
  set -- "$dest/coffer$sep"*
  [ -e "$1" ] || die "no Coffer backups in $dest (expected a folder named coffer inside it)"
fi
base=$dest/coffer$sep
h='[0-9a-f]'
hex32=$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h$h

partial=$target.partial-$$
cleanup() {
  if [ -n "$partial" ] && [ -d "$partial" ]; then
    chmod -R u+rwx -- "$partial" 2>/dev/null
    rm -rf -- "$partial"
  fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
[ -e "$partial" ] && {
  partial=
  die "$target.partial-$$ is in the way"
}
mkdir -- "$partial" || {
  partial=
  die "cannot create $target.partial-$$ beside $target"
}
work=$partial/work
tree=$partial/tree
mkdir -- "$work" || die "cannot create $work"
(umask "$user_umask" && mkdir -- "$tree") || die "cannot create $tree"

# Every backup of SOURCE made with this key, both formats, one line each: ID FORMAT PATH.
found=$work/found
: >"$found"
for f in "$base$source$sep"*.age; do
  [ -f "$f" ] || continue
  id=${f##*"$sep"}
  id=${id%.age}
  meta_matches "$(header_meta "$f")" 1 "$id" && printf '%s 1 %s\n' "$id" "$f" >>"$found"
done
# A chunked source's folder is named by a keyed id that sh cannot compute: the manifests'
# plaintext headers say which source each folder holds. One readable header that names another
# source or key rules out its whole folder.
skip=
# shellcheck disable=SC2231 # $hex32 is a glob on purpose: s and 32 hex digits
for f in "$base"s$hex32"$sep"backups"$sep"*.age; do
  [ -f "$f" ] || continue
  folder=${f%"$sep"backups"$sep"*}
  [ "$folder" = "$skip" ] && continue
  id=${f##*"$sep"}
  id=${id%.age}
  meta=$(header_meta "$f") || meta=
  if meta_matches "$meta" 2 "$id"; then
    printf '%s 2 %s\n' "$id" "$f" >>"$found"
  elif [ -n "$meta" ]; then
    case ${meta#* } in *',"source":"'"$source"'",'*) [ -z "$keyid" ] || [ "${meta%% *}" = "$keyid" ] || skip=$folder ;; *) skip=$folder ;; esac
  fi
done
[ -s "$found" ] || die "no backup of source '$source'${keyid:+ made with key $keyid} in $dest"
sort -o "$found" "$found"

pick=
if [ -n "$wanted" ]; then
  while read -r id format path; do
    [ "$id" = "$wanted" ] && pick="$format $path"
  done <"$found"
  [ -n "$pick" ] || die "no backup '$wanted' of source '$source'${keyid:+ made with key $keyid} in $dest"
  id=$wanted
else
  # Backup ids begin with their UTC creation time: the greatest is the newest.
  last=$(tail -n 1 "$found")
  id=${last%% *}
  pick=${last#* }
fi
format=${pick%% *}
object=${pick#* }

# The first line of a tool's error output, without its own prefix.
first_line() {
  line=
  [ -s "$1" ] && IFS= read -r line <"$1"
  line=${line#age: error: }
  line=${line#age: }
  printf '%s' "${line:-no message}"
}
fail() {
  [ -e "$work/error" ] || printf '%s\n' "$*" >"$work/error"
  return 1
}

# Padmé length (SPEC §9): what a chunk of $1 bytes is padded to.
padme() {
  len=$1
  if [ "$len" -lt 2 ]; then
    printf '%s' "$len"
    return
  fi
  e=0 x=$len
  while [ "$x" -gt 1 ]; do x=$((x / 2)) e=$((e + 1)); done
  s=0 x=$e
  while [ "$x" -gt 1 ]; do x=$((x / 2)) s=$((s + 1)); done
  unit=$((1 << (e - s - 1)))
  printf '%s' $(((len + unit - 1) / unit * unit))
}

# Decrypts chunk $1 (1-based) with id $2, length $3 and SHA-256 $4 into file $5, and checks it
# against the manifest before anything uses it: the Padmé size, zero padding, the SHA-256.
fetch_chunk() {
  obj=$chunks$2.age
  [ -f "$obj" ] || fail "chunk $1 of $count ($2) is missing from $dest" || return 1
  age -d -i "$identity" -- "$obj" >"$5" 2>"$work/age.err" ||
    fail "cannot decrypt chunk $1 of $count ($2): $(first_line "$work/age.err")" || return 1
  # wc may pad its number with blanks; test -eq and $((…)) read it anyway.
  size=$(wc -c <"$5")
  [ "$size" -eq "$(padme "$3")" ] ||
    fail "chunk $1 of $count ($2) has the wrong size: it was damaged, swapped or replaced" || return 1
  if [ "$size" -gt "$3" ]; then
    nonzero=$(tail -c +$(($3 + 1)) "$5" | tr -d '\000' | wc -c)
    [ "$nonzero" -eq 0 ] || fail "chunk $1 of $count ($2) has non-zero padding: it was damaged or replaced" || return 1
  fi
  sum=$(head -c "$3" "$5" | sha256sum)
  [ "${sum%% *}" = "$4" ] ||
    fail "chunk $1 of $count ($2) does not match the manifest's SHA-256: it was damaged, swapped or replaced" || return 1
}

# Writes the chunked backup's stream: each chunk checked before its bytes leave.
emit_chunks() {
  i=0
  while read -r cid len sha; do
    i=$((i + 1))
    if [ "$i" -eq 1 ]; then
      file=$work/first
    else
      file=$work/chunk
      fetch_chunk "$i" "$cid" "$len" "$sha" "$file" || return 1
    fi
    head -c "$len" "$file" || return 1
    [ "$i" -eq 1 ] || rm -f -- "$file"
  done <"$work/chunks"
  : >"$work/emitted"
}

# tar's own defaults keep entries inside the folder: GNU tar and bsdtar refuse names with `..`,
# strip a leading `/`, and do not write through symlinks the archive made (GNU tar creates a
# symlink that points outside as a placeholder until the end). -p: modes as archived.
untar() {
  (cd -- "$tree" && tar -xpf - 2>"$work/tar.err")
  status=$?
  # tar may stop at the archive's end: the Padmé padding after it is drained, not left to SIGPIPE.
  cat >/dev/null
  return "$status"
}

gunzip_or_cat() {
  if [ "$1" = 1f8b ]; then
    gzip -dc || : >"$work/gzip.failed"
  else
    cat
  fi
}

if [ "$format" = 1 ]; then
  magic=$(age -d -i "$identity" -- "$object" 2>/dev/null | head -c 2 | od -An -tx1 | tr -d ' \n')
  [ "$magic" != 1f8b ] || command -v gzip >/dev/null 2>&1 || die "backup $id is gzip-compressed: needs 'gzip' on PATH"
  {
    age -d -i "$identity" -- "$object" 2>"$work/age.err" ||
      fail "cannot decrypt $object: $(first_line "$work/age.err")"
  } | gunzip_or_cat "$magic" | untar
  tar_status=$?
  : >"$work/emitted"
  chunk_count=
else
  manifest=$work/manifest
  age -d -i "$identity" -- "$object" >"$manifest" 2>"$work/age.err" ||
    die "cannot decrypt manifest $object: $(first_line "$work/age.err")"
  # SPEC §10: `coffer-manifest 2`, `chunk ID LENGTH SHA256` lines, `end COUNT TOTAL`, then only
  # empty lines. Checked whole before any chunk is read.
  bad() { die "manifest of backup $id is malformed: $*"; }
  count=0 total=0 ended=
  : >"$work/chunks"
  {
    IFS= read -r line || bad "empty"
    [ "$line" = 'coffer-manifest 2' ] || bad "no 'coffer-manifest 2' line"
    while IFS= read -r line || [ -n "$line" ]; do
      if [ -n "$ended" ]; then
        [ -z "$line" ] || bad "text after the end line"
        continue
      fi
      case $line in
        'chunk '*)
          rest=${line#chunk }
          cid=${rest%% *} rest=${rest#* }
          len=${rest%% *} sha=${rest#* }
          if ! hex64 "$cid" || ! hex64 "$sha"; then bad "chunk line $((count + 1))"; fi
          # Digits without a leading zero: sh arithmetic would read 010 as octal.
          case $len in '' | *[!0-9]* | 0?*) bad "chunk line $((count + 1))" ;; esac
          [ "${#len}" -le 15 ] || bad "chunk line $((count + 1))"
          count=$((count + 1)) total=$((total + len))
          printf '%s %s %s\n' "$cid" "$len" "$sha" >>"$work/chunks"
          ;;
        'end '*)
          rest=${line#end }
          [ "$rest" = "$count $total" ] || bad "end line says '$rest', the chunk lines add up to '$count $total'"
          ended=1
          ;;
        *) bad "unexpected line" ;;
      esac
    done
  } <"$manifest"
  [ -n "$ended" ] || bad "no end line"
  [ "$count" -gt 0 ] || bad "no chunks"
  chunks=${object%"$sep"backups"$sep"*}${sep}chunks$sep
  IFS=' ' read -r cid len sha <"$work/chunks"
  fetch_chunk 1 "$cid" "$len" "$sha" "$work/first" || die "$(cat "$work/error")"
  # The magic is in the first chunk: only a stream's last chunk may be shorter than the minimum
  # chunk size (kibibytes), so a first chunk under 2 bytes is a whole stream too short for gzip.
  magic=$(head -c 2 "$work/first" | od -An -tx1 | tr -d ' \n')
  [ "$magic" != 1f8b ] || command -v gzip >/dev/null 2>&1 || die "backup $id is gzip-compressed: needs 'gzip' on PATH"
  emit_chunks | gunzip_or_cat "$magic" | untar
  tar_status=$?
  chunk_count=" ($count chunks, $total bytes)"
fi

[ -e "$work/error" ] && die "$(cat "$work/error")"
[ -e "$work/gzip.failed" ] && die "backup $id: gzip could not decompress it"
[ "$tar_status" -eq 0 ] || die "backup $id: tar failed: $(first_line "$work/tar.err")"
[ -e "$work/emitted" ] || die "backup $id: the stream stopped early"

if [ -e "$target" ]; then
  rmdir -- "$target" 2>/dev/null || die "$target is no longer empty: nothing was moved into it"
fi
mv -- "$tree" "$target" || die "cannot move the restored folder into place at $target"
printf 'restored backup %s of %s (format %s)%s into %s\n' "$id" "$source" "$format" "${chunk_count:-}" "$target"
