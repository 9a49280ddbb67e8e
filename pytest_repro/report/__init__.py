"""Reports: terminal lines and table, results.md, JSON, HTML extras, GitHub summary."""
