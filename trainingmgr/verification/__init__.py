"""Public verification of certificates: anyone with a certificate's code (printed under its QR
code) can check that it is genuine and still valid. See ``views.py`` for caching and limits."""
