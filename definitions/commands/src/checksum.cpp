static void cmd_checksum(const long* args) {
  fw_checksum_on = args[0] != 0;  // 0 or 1: the argument's bounds
  fw_reply_checksum(fw_checksum_on);
}
