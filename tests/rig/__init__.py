"""The test rig: real Dovecot, aiosmtpd and database servers started by the suite."""
