{
  "variables": {
    "libdeflate%": "<!(test -f /usr/include/libdeflate.h && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "batch_io",
      "sources": ["native/batch_io.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "conditions": [
        ["libdeflate==1", { "defines": ["COFFER_LIBDEFLATE"], "libraries": ["-ldeflate"] }]
      ]
    }
  ]
}
