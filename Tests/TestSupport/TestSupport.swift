// Shared helpers for the test targets: scripted peers, free ports, process control.
