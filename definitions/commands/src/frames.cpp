static void cmd_frames(const long* args) {
  fw_frames_on = args[0] != 0;  // 0 or 1: the argument's bounds
  fw_reply_frames(fw_frames_on);
}
