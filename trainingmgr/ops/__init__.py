"""Running trainingmgr in production: security headers, health check, backup and restore."""
