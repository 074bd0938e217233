"""The synthetic ledger-page generator: content, handwriting rendering, page ageing, ground truth."""
