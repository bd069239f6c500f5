"""The 日通报 bulletin: `content` (what it says), `chart`, and the `docx` and `xlsx` files."""
