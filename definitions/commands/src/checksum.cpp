static void cmd_checksum(const long* args) {
  fw_checksum_on = args[0] == 1;
  fw_reply_checksum(args[0]);
}
