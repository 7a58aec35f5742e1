"""Ads: the space and unit model, its YAML loader, selection and feed-safe markup."""
