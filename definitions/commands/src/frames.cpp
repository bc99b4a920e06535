static void cmd_frames(const long* args) {
  fw_frames_on = args[0] == 1;
  fw_reply_frames(args[0]);
}
