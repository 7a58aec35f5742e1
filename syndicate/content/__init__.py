"""Articles: the model, the loaders that read them from feeds/, and the HTML pipeline."""
