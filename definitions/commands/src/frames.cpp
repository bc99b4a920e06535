static void cmd_frames(const long* args) {
  fw_frames_on = args[0] == 1;
  fw_reply_begin();
  fw_reply_int(F("on"), args[0]);
  fw_reply_end();
}
