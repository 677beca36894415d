{
  "targets": [
    {
      "target_name": "kith_udp",
      "sources": ["kith_udp.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
