"""text-autocomplete: an LSTM and a pretrained transformer that finish tweets, measured alike."""
