"""Reading nested JSON documents (loadgen results, repetitions, manifests) without a KeyError."""


def dig(doc, *keys):
    """doc[k1][k2]... or None as soon as a level is missing or not an object."""
    for k in keys:
        if not isinstance(doc, dict) or k not in doc:
            return None
        doc = doc[k]
    return doc
