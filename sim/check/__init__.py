"""`mcusim check`: a regression gate for CI without hardware.

A TOML manifest lists firmware to run (ELF, board, options, tolerances, expected exit code and
output); each run's figures are compared with a recorded baseline JSON, and the changes are shown
as a table (terminal or Markdown) and as JUnit XML for CI systems. Modules: `manifest` (reading
the TOML), `measure` (running entries, in a process pool), `compare` (baseline and verdicts),
`views` (table, Markdown, JUnit), `command` (the CLI).
"""
