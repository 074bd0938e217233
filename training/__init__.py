"""Training loops, fine-tuning on corrected pages, calibration."""
