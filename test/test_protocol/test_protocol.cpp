// This suite tests the env's generated firmware itself (test_build_src = yes): its requests and
// expected replies are in cases.json, run on the simulated board by test/test_custom_runner.py.
// PlatformIO builds a suite only when its folder holds a source file: this is that file.
