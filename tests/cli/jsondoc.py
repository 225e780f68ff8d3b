"""spte-inspect's JSON (schema 2) as the tests read it. Tests about what the
tool finds, not about the JSON's shape, read SPTEs with their decoded bits
beside the raw value and sentences as their text; schema_test.py checks the
shape itself against doc/spte-inspect.schema.json."""
import json


def _sentence(x):
    return x["text"] if isinstance(x, dict) and "text" in x else x


def _spte(e):
    if isinstance(e, dict) and isinstance(e.get("bits"), dict):
        return {**e, **e["bits"]}
    return e


def view(doc):
    if not isinstance(doc, dict):
        return doc
    if isinstance(doc.get("incomplete"), list):
        doc["incomplete"] = [_sentence(m) for m in doc["incomplete"]]
    if isinstance(doc.get("sptes"), list):
        doc["sptes"] = [_spte(e) for e in doc["sptes"]]
    for w in doc.get("walks", []) or []:
        w["walk"] = [_spte(e) for e in w.get("walk", [])]
    for f in doc.get("findings", []) or []:
        f["evidence"] = _sentence(f.get("evidence"))
    return doc


def load(text):
    return view(json.loads(text))
