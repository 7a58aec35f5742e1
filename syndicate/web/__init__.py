"""The HTTP layer: routes, views and middlewares. Holds no domain logic."""
