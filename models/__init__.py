"""Network definitions (recogniser, layout), their configs, ONNX export and the shipped weights."""
