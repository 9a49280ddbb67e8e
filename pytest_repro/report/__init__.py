"""Reports: what a claim result looks like in the terminal, results.md, JSON, HTML and GitHub.

``model`` computes each claim's display facts once; ``terminal``, ``markdown`` (with
``evidence``, its appendix) and ``html`` format them; ``escape`` makes text from a spec or
a run inert in each output; ``writers`` writes the files; ``recorded`` finds the recorded
runs a report is rebuilt from; ``format`` writes numbers in a claim's units.
"""
