"""Memory: boards and SoCs as data, region models, memory accounting."""
