static void fw_restart() {
  ESP.restart();
}
