"""The JSON API's own domain: personal access tokens, their rate windows and use audit, and
key-set pages for the API's lists."""
