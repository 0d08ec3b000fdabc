{
  "targets": [
    {
      "target_name": "batch_io",
      "sources": ["native/batch_io.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
