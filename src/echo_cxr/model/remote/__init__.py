"""Code copied into every checkpoint echo-cxr saves, for ``trust_remote_code`` users.

Files here import only torch and transformers, so they run without echo-cxr installed.
"""
