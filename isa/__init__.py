"""Instruction set: Thumb decoding with capstone, core descriptions and timing models."""
