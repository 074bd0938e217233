"""The page pipeline on ONNX Runtime: layout, recognition, decoding, validation, routing."""
