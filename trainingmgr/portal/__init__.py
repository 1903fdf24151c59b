"""The participant portal: sign-in by e-mailed link, the profile and the calendar feed."""
