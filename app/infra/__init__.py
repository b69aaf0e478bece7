"""What the domain uses and that knows nothing of it: PDFs, markdown, file types,
passwords, text checks, sizes as people read them, the migrations' downgrade guard.
"""
