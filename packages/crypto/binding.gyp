{
  "targets": [
    {
      "target_name": "coffer_native",
      "sources": ["native/coffer_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
