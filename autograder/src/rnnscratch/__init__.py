"""Recurrent Networks from Scratch: the course package."""
