{
  "variables": {
    "libdeflate%": "<!(test -f /usr/include/libdeflate.h && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "coffer_native",
      "sources": ["native/coffer_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "conditions": [
        ["libdeflate==1", { "defines": ["COFFER_LIBDEFLATE"], "libraries": ["-ldeflate"] }]
      ]
    }
  ]
}
