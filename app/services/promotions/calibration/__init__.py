"""Calibration sessions, one module per job: `planning` (a session's name, people and cases),
`votes` (blind pre-votes, the reveal, the vote page), `grid` (the meeting grid and one cell of
it), `decisions` (agreed ratings, outcomes, lock and reopen) and `panels` (what the cycle and
case pages show); `checks` holds what every verb and page starts with.

Who may do what is app/policy's (session.* and votes.view); when, the phase rules'. Every
change is written to the decision log in the same transaction. The grid and the panels read in
a fixed number of queries, whatever the number of cases and competencies. Import a verb from
the module that holds it.
"""
