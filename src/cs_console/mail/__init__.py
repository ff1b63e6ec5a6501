"""Mail: MIME parsing, IMAP and SMTP protocol work, composing messages.

Knows nothing of tickets or the database.
"""
