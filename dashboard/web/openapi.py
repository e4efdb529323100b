"""The OpenAPI 3 description of the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from dashboard.actions.quick import Action as QuickAction
from dashboard.data.device_records import CHECKLIST, RESET_CHOICES

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}
_REFUSED = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}


_FIELD = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
}
_TEXT = {"type": "string"}
_KEY = {
    "name": "key",
    "in": "path",
    "required": True,
    "description": "the device's MAC, or its address for one listed by address",
    "schema": {"type": "string"},
}


def _object(properties: dict) -> dict:
    return {"type": "object", "required": list(properties), "properties": properties}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


_COMMON = {
    "400": {"description": "A malformed value or body, said in the error", **_json(_ERROR)},
    "401": {"description": "Not signed in", **_json(_ERROR)},
    "403": {
        "description": "The account's role cannot do this (or cannot change a part of the"
        " rules this change touches), or the CSRF token is missing",
        **_json(_ERROR),
    },
}
_CHANGES = {
    "409": {
        "description": "The rules changed since `version`: reload and try again",
        **_json(_ERROR),
    },
    "422": {
        "description": "filterd would refuse these rules: each problem as key.path: reason",
        **_json(_REFUSED),
    },
}

SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": "filterd dashboard API",
        "version": "1",
        "description": (
            "Sign in through /login (the session cookie); send the CSRF token from"
            " GET /api/session in the X-CSRF-Token header with every change."
        ),
    },
    "components": {
        "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "__Host-filterd_session"}
        }
    },
    "security": [{"session": []}],
    "paths": {
        "/api/session": {
            "get": {
                "summary": "Who is signed in, and the CSRF token",
                "responses": {"200": {"description": "user, role, csrf"}, **_COMMON},
            }
        },
        "/api/children": {
            "get": {
                "summary": "Every child now: online, paused, offline, usage, limits, blocks",
                "responses": {"200": {"description": "version and children"}, **_COMMON},
            }
        },
        "/api/children/{child}": {
            "delete": {
                "summary": "A child leaving the home: their rules leave the rules file, their"
                " devices are unassigned or removed; their records are kept until each one's"
                " retention ends. `confirm` is the child's name as shown",
                "parameters": [
                    {"name": "child", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": _json(
                    _object(
                        {
                            "confirm": _TEXT,
                            "devices": {"type": "string", "enum": ["unassign", "remove"]},
                            "reason": _TEXT,
                            "version": _TEXT,
                        }
                    )
                ),
                "responses": {
                    "200": {"description": "removed; how many devices were theirs, the version"},
                    "400": {"description": "a wrong field, said in `error`", **_json(_FIELD)},
                    "404": {"description": "no such child", **_json(_ERROR)},
                    **_COMMON,
                    **_CHANGES,
                },
            }
        },
        "/api/children/{child}/actions": {
            "post": {
                "summary": "Pause (15/30/60 minutes, until a time or until resumed), resume,"
                " +30 minutes on today's limit or before bedtime, lift bedtime until a time,"
                " or undo one override in force (until: its place in the list)",
                "parameters": [
                    {"name": "child", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["action", "version"],
                        "properties": {
                            "action": {
                                "type": "string",
                                "enum": [a.value for a in QuickAction],
                            },
                            "until": {"type": "string", "example": "21:30"},
                            "version": {"type": "string"},
                        },
                    }
                ),
                "responses": {
                    "200": {"description": "saved; the new version"},
                    "400": {"description": "unknown child or action", **_json(_ERROR)},
                    **_COMMON,
                    **_CHANGES,
                },
            }
        },
        "/api/everyone/actions": {
            "post": {
                "summary": "Pause every child (until: 15, 30 or 60 minutes, a time, or empty"
                " for until resumed), or resume every child",
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["action", "version"],
                        "properties": {
                            "action": {"type": "string", "enum": ["pause", "resume"]},
                            "until": {"type": "string", "example": "30"},
                            "version": {"type": "string"},
                        },
                    }
                ),
                "responses": {
                    "200": {"description": "saved; what happened in words and the new version"},
                    "400": {"description": "unknown action or duration", **_json(_ERROR)},
                    **_COMMON,
                    **_CHANGES,
                },
            }
        },
        "/api/rules": {
            "get": {
                "summary": "The rules as data, their version, and why filterd refuses them if so",
                "responses": {"200": {"description": "version, problems, rules"}, **_COMMON},
            },
            "put": {
                "summary": "Replace the rules (validated by filterd's parser; refused if stale)",
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["version", "rules"],
                        "properties": {"version": {"type": "string"}, "rules": {"type": "object"}},
                    }
                ),
                "responses": {
                    "200": {"description": "saved; the new version"},
                    **_COMMON,
                    **_CHANGES,
                },
            },
        },
        "/api/devices": {
            "get": {
                "summary": "Every device: seen by discovery or listed by hand, with its owner"
                " from the rules, `new` until someone decides, and `key` to name it by",
                "responses": {"200": {"description": "version and devices"}, **_COMMON},
            },
            "post": {
                "summary": "Add a device by hand, by MAC or by IP address",
                "requestBody": _json(
                    _object({"address": _TEXT, "name": _TEXT, "owner": _TEXT, "version": _TEXT})
                ),
                "responses": {
                    "201": {"description": "listed; its key and the new version"},
                    "400": {"description": "a wrong field, said in `error`", **_json(_FIELD)},
                    **_COMMON,
                    **_CHANGES,
                },
            },
        },
        "/api/devices/{key}/owner": {
            "post": {
                "summary": 'Assign a device to a child, to the household ("none"), or mark it'
                ' a visitor\'s ("visitor": filtered as devices nobody has assigned)',
                "parameters": [_KEY],
                "requestBody": _json(_object({"owner": _TEXT, "version": _TEXT})),
                "responses": {
                    "200": {"description": "saved; the new version"},
                    "404": {"description": "no such device", **_json(_ERROR)},
                    **_COMMON,
                    **_CHANGES,
                },
            }
        },
        "/api/devices/{key}/name": {
            "post": {
                "summary": "Rename a device",
                "parameters": [_KEY],
                "requestBody": _json(_object({"name": _TEXT, "version": _TEXT})),
                "responses": {
                    "200": {"description": "saved; the new version"},
                    "404": {"description": "no such device", **_json(_ERROR)},
                    **_COMMON,
                    **_CHANGES,
                },
            }
        },
        "/api/devices/{key}": {
            "delete": {
                "summary": "Remove a device from the list and the rules (shown again as new"
                " if it joins the Wi-Fi later)",
                "parameters": [_KEY],
                "requestBody": _json(_object({"version": _TEXT})),
                "responses": {
                    "200": {"description": "removed; the new version"},
                    "404": {"description": "no such device", **_json(_ERROR)},
                    **_COMMON,
                    **_CHANGES,
                },
            }
        },
        "/api/blocked": {
            "get": {
                "summary": "The review queue: blocked requests, high-risk first (page filters)",
                "parameters": [
                    {"name": n, "in": "query", "schema": {"type": "string"}}
                    for n in (
                        "child",
                        "device",
                        "category",
                        "range",
                        "from",
                        "to",
                        "risk",
                        "review",
                        "page",
                    )
                ],
                "responses": {
                    "200": {
                        "description": "entries with the review in force (`review`) and every"
                        " review of it, oldest first (`reviews`)"
                    },
                    **_COMMON,
                },
            }
        },
        "/api/blocked/review": {
            "post": {
                "summary": "Mark blocked requests reviewed with an outcome and a note",
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["ids", "outcome"],
                        "properties": {
                            "ids": {
                                "type": "array",
                                "maxItems": 1000,
                                "items": {"type": "integer", "minimum": 1},
                            },
                            "outcome": {
                                "type": "string",
                                "enum": ["no_concern", "discussed_with_child", "raised_with_dsl"],
                            },
                            "note": {"type": "string", "maxLength": 2000},
                        },
                    }
                ),
                "responses": {"200": {"description": "the ids reviewed"}, **_COMMON},
            }
        },
        "/api/audit": {
            "get": {
                "summary": "The audit trail, newest first, 100 entries a page",
                "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "entries, page, pages"}, **_COMMON},
            }
        },
    },
}

_CHILD = {"name": "child", "in": "path", "required": True, "schema": {"type": "string"}}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}
_FIELDS_REFUSED = {
    "description": "A bad field: `fields` maps each one to what is wrong, in plain words",
    **_json({"type": "object", "properties": {"error": _TEXT, "fields": {"type": "object"}}}),
}
SPEC["paths"].update(
    {
        "/api/children/{child}/agreement": {
            "get": {
                "summary": "A child's online-safety agreement: its state and every version",
                "parameters": [_CHILD],
                "responses": {
                    "200": {"description": "state, words, review, observed, versions"},
                    **_COMMON,
                },
            },
            "post": {
                "summary": "Record a new version (carers, safeguarding leads, administrators)",
                "parameters": [_CHILD],
                "requestBody": _json(
                    {
                        "type": "object",
                        "description": "Text fields as on the agreement page (child_name,"
                        " child_on, carer_name, ..., risk_level, agrees, will_tell,"
                        " observation_how, review as YYYY-MM-DD); observation true or false",
                    }
                ),
                "responses": {
                    "201": {"description": "the version made"},
                    **_COMMON,
                    "400": _FIELDS_REFUSED,
                },
            },
        },
        "/api/children/{child}/agreement/{number}/sign": {
            "post": {
                "summary": "Mark the newest version signed by the person named",
                "parameters": [_CHILD, _NUMBER],
                "requestBody": _json(
                    _object(
                        {
                            "signer": {"type": "string", "maxLength": 100},
                            "part": {
                                "type": "string",
                                "enum": [
                                    "child",
                                    "carer",
                                    "parent",
                                    "social_worker",
                                    "iro",
                                    "other",
                                ],
                            },
                        }
                    )
                ),
                "responses": {
                    "200": {"description": "the version, with its signatures"},
                    **_COMMON,
                    "400": _FIELDS_REFUSED,
                    "409": {
                        "description": "A newer version exists: read it first",
                        **_json(_ERROR),
                    },
                },
            }
        },
    }
)

_RECORD = {
    "description": "the device's record: key (its MAC, or its address for a device known only"
    " by it), mac (null for such a device), name, owner, bought_by, account_holder, handed_over,"
    " reset, filled_in, updated, updated_by, and checklist (each item: done, by, ts)",
    **_json({"type": "object"}),
}
SPEC["paths"]["/api/devices/{key}/record"] = {
    "get": {
        "summary": "A device's record: who bought it, who holds its account, when it was handed"
        " to the carer, whether it was reset, and the set-up checklist with who ticked each item",
        "parameters": [_KEY],
        "responses": {
            "200": _RECORD,
            "404": {"description": "no device with that MAC or address", **_json(_ERROR)},
            **_COMMON,
        },
    },
    "post": {
        "summary": "Save the whole record; each checklist item ticked or unticked is an audit"
        " entry with its author",
        "parameters": [_KEY],
        "requestBody": _json(
            _object(
                {
                    "bought_by": {"type": "string", "maxLength": 80},
                    "account_holder": {"type": "string", "maxLength": 80},
                    "handed_over": {"type": "string", "format": "date"},
                    "reset": {"type": "string", "enum": list(RESET_CHOICES)},
                    "checklist": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(CHECKLIST)},
                    },
                }
            )
        ),
        "responses": {
            "200": _RECORD,
            "404": {"description": "no device with that MAC or address", **_json(_ERROR)},
            **_COMMON,
            "400": _FIELDS_REFUSED,
        },
    },
}
