#!/usr/bin/env python3
"""kafka-codegen: Swift codecs for Kafka's wire protocol, generated from Kafka's JSON message specs.

Kafka describes every request and response in `clients/src/main/resources/common/message/*.json`
(apache/kafka); its own build and franz-go generate their codecs from those files, and so do we.
The APIs and versions we cover are listed in `apis.json`; their specs are checked in under `spec/`
(see `spec/NOTICE`), so generating needs neither the network nor a Kafka checkout.

    kafka_codegen.py generate [--check]     writes (or, with --check, compares) the Swift output
    kafka_codegen.py import-specs GIT_DIR COMMIT
                                            copies the specs of apis.json from a Kafka git
                                            directory at COMMIT into spec/ and records the commit

Scope: non-flexible versions only (request header v1, response header v0, no tagged fields).
A field of a covered version that needs anything else (a tagged field, a UUID, a struct that is
not in an array) stops the generator with a message, rather than producing a wrong codec.

Output:
  Sources/KafkaProtocol/Generated/<Message>.swift         one struct per request and response
  Sources/KafkaProtocol/Generated/KafkaAPIKey+Generated.swift
                                                          API keys, covered versions, the
                                                          KafkaRequest and KafkaResponse enums
  Tests/KafkaProtocolTests/Generated/RandomMessages.swift random instances per version, for the
                                                          round-trip tests
Python 3 standard library only.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPEC_DIR = os.path.join(HERE, "spec")
# Specs written for logd, in the same format, for APIs whose entry in apis.json says "spec": "local".
LOCAL_SPEC_DIR = os.path.join(HERE, "spec-local")
SOURCE_OUT = os.path.join(ROOT, "Sources", "KafkaProtocol", "Generated")
TEST_OUT = os.path.join(ROOT, "Tests", "KafkaProtocolTests", "Generated")
KAFKA_SPEC_PATH = "clients/src/main/resources/common/message"


class SpecError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Reading the specs

def strip_comments(text):
    """Kafka's spec files are JSON with `//` line comments; removes them outside strings."""
    out = []
    i, n, in_string = 0, len(text), False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def load_spec(name, local=False):
    path = os.path.join(LOCAL_SPEC_DIR if local else SPEC_DIR, name + ".json")
    with open(path, encoding="utf-8") as f:
        return json.loads(strip_comments(f.read()))


def parse_versions(text):
    """'3+' -> (3, None); '0-7' -> (0, 7); '5' -> (5, 5); 'none' -> None."""
    text = str(text).strip()
    if text == "none" or text == "":
        return None
    if text.endswith("+"):
        return (int(text[:-1]), None)
    if "-" in text:
        lo, hi = text.split("-")
        return (int(lo), int(hi))
    return (int(text), int(text))


def intersect(a, b):
    """Intersection of two version ranges (hi None = open), or None."""
    if a is None or b is None:
        return None
    lo = max(a[0], b[0])
    his = [h for h in (a[1], b[1]) if h is not None]
    hi = min(his) if his else None
    if hi is not None and lo > hi:
        return None
    return (lo, hi)


# ---------------------------------------------------------------------------------------------
# The model: a message or struct at the covered versions

PRIMITIVES = {
    # spec type: (Swift type, reader method, writer method, minimum encoded size)
    "int8": ("Int8", "readInt8", "writeInt8", 1),
    "int16": ("Int16", "readInt16", "writeInt16", 2),
    "uint16": ("UInt16", "readUInt16", "writeUInt16", 2),
    "int32": ("Int32", "readInt32", "writeInt32", 4),
    "int64": ("Int64", "readInt64", "writeInt64", 8),
    "float64": ("Double", "readFloat64", "writeFloat64", 8),
    "bool": ("Bool", "readBool", "writeBool", 1),
}

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows",
    "static", "struct", "subscript", "typealias", "var", "break", "case", "continue", "default",
    "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch",
    "where", "while", "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw",
    "throws", "true", "try", "any", "some", "Type",
}


def swift_name(spec_name):
    name = spec_name[0].lower() + spec_name[1:]
    return "`%s`" % name if name in SWIFT_KEYWORDS else name


def version_condition(present, covered):
    """A Swift condition on `version` for a field present at `present` within `covered`, or None
    when it is present at every covered version."""
    lo, hi = present
    clo, chi = covered
    hi = chi if hi is None else hi
    if lo <= clo and hi >= chi:
        return None
    if lo == hi:
        return "version == %d" % lo
    if lo <= clo:
        return "version <= %d" % hi
    if hi >= chi:
        return "version >= %d" % lo
    return "(%d...%d).contains(version)" % (lo, hi)


def versions_text(r, covered):
    lo, hi = r
    hi = covered[1] if hi is None else hi
    return "v%d" % lo if lo == hi else "v%d–%d" % (lo, hi)


class Field:
    def __init__(self, spec, covered, context):
        self.spec_name = spec["name"]
        self.name = swift_name(spec["name"])
        self.about = spec.get("about", "").strip()
        self.type = spec["type"]
        self.context = context + "." + spec["name"]
        present = intersect(parse_versions(spec["versions"]), covered)
        self.present = None if present is None else (present[0], covered[1] if present[1] is None else present[1])
        if self.present is None:
            return
        tagged = intersect(parse_versions(spec.get("taggedVersions", "none")), covered)
        if tagged is not None:
            raise SpecError("%s: tagged at a covered version %s (tagged fields need flexible versions)" % (self.context, spec["taggedVersions"]))
        self.nullable = intersect(parse_versions(spec.get("nullableVersions", "none")), self.present)
        if self.nullable is not None:
            self.nullable = (self.nullable[0], self.present[1] if self.nullable[1] is None else self.nullable[1])
        self.default = spec.get("default")
        self.struct = None
        self.is_array = self.type.startswith("[]")
        element = self.type[2:] if self.is_array else self.type
        self.element = element
        if element in PRIMITIVES or element in ("string", "bytes", "records"):
            if element == "records" and self.is_array:
                raise SpecError("%s: an array of records" % self.context)
            if element in ("bytes", "records") and self.is_array:
                raise SpecError("%s: an array of %s is not supported" % (self.context, element))
        elif element == "uuid":
            raise SpecError("%s: uuid at a covered version is not supported" % self.context)
        elif element[0].isupper():
            if not self.is_array:
                raise SpecError("%s: a struct field outside an array is not supported" % self.context)
            if "fields" not in spec:
                raise SpecError("%s: common structs are not supported" % self.context)
            self.struct = Struct(element, spec["fields"], covered, self.context)
        else:
            raise SpecError("%s: unknown type %s" % (self.context, self.type))

    # Swift types --------------------------------------------------------------------------
    def element_swift_type(self):
        e = self.element
        if e in PRIMITIVES:
            return PRIMITIVES[e][0]
        if e == "string":
            return "String"
        if e == "bytes":
            return "[UInt8]"
        if e == "records":
            return "ArraySlice<UInt8>"
        return self.struct.name

    def swift_type(self):
        t = "[%s]" % self.element_swift_type() if self.is_array else self.element_swift_type()
        if self.nullable is not None:
            t += "?"
        return t

    def default_literal(self):
        d = self.default
        if self.nullable is not None and (d == "null" or (d is None and self.element in ("records",))):
            return "nil"
        if self.is_array:
            return "[]"
        e = self.element
        if e in ("int8", "int16", "uint16", "int32", "int64"):
            if d is None or d == "":
                return "0"
            return str(d)
        if e == "float64":
            return str(d) if d not in (None, "") else "0"
        if e == "bool":
            return "true" if str(d).lower() == "true" else "false"
        if e == "string":
            if d is None or d == "null":
                return '""'
            return json.dumps(d)
        if e in ("bytes", "records"):
            return "[]"
        raise SpecError("%s: no default for %s" % (self.context, self.type))

    def min_size(self, version):
        """The fewest bytes this field takes at `version` (0 when absent)."""
        if not (self.present[0] <= version <= self.present[1]):
            return 0
        if self.is_array:
            return 4
        e = self.element
        if e in PRIMITIVES:
            return PRIMITIVES[e][3]
        if e == "string":
            return 2
        return 4  # bytes, records

    def element_min_size(self):
        """The fewest bytes one element of this array takes, at any version the array is present
        (at least 1, so that a count can always be checked against the bytes left)."""
        e = self.element
        if self.struct is not None:
            return max(1, min(self.struct.min_size(v) for v in range(self.present[0], self.present[1] + 1)))
        if e in PRIMITIVES:
            return PRIMITIVES[e][3]
        if e == "string":
            return 2
        return 4


class Struct:
    def __init__(self, name, field_specs, covered, context):
        self.name = name
        self.covered = covered
        self.context = context
        self.fields = []
        for spec in field_specs:
            f = Field(spec, covered, context)
            if f.present is not None:
                self.fields.append(f)

    def min_size(self, version):
        return sum(f.min_size(version) for f in self.fields)

    def nested(self):
        for f in self.fields:
            if f.struct is not None:
                yield f.struct


# ---------------------------------------------------------------------------------------------
# Swift output

HEADER = """// Generated by Tools/kafka-codegen/kafka_codegen.py from {source}.
// Do not edit: change the generator or the spec, then run `make kafka-codegen`.
"""


def doc_lines(text, indent):
    out = []
    words = text.split()
    line = ""
    for w in words:
        if len(line) + len(w) + 1 > 100 - len(indent) - 4 and line:
            out.append(indent + "/// " + line)
            line = w
        else:
            line = w if not line else line + " " + w
    if line:
        out.append(indent + "/// " + line)
    return out


def decode_value(f, indent, target):
    """Lines that read field `f` into `target` (a Swift lvalue)."""
    lines = []
    c = f.context.split(".", 1)[-1]
    if f.is_array:
        elem_min = f.element_min_size()
        tmp = "items"
        if f.nullable is not None:
            cond_null = version_condition(f.nullable, f.present)
            count_expr = "try reader.readNullableArrayCount(field: %s, minElementBytes: %d)" % (json.dumps(c), elem_min)
            if cond_null is not None:
                count_expr = "try (%s ? reader.readNullableArrayCount(field: %s, minElementBytes: %d) : reader.readArrayCount(field: %s, minElementBytes: %d))" % (
                    cond_null, json.dumps(c), elem_min, json.dumps(c), elem_min)
            lines.append(indent + "if let count = %s {" % count_expr)
        else:
            lines.append(indent + "do {")
            lines.append(indent + "    let count = try reader.readArrayCount(field: %s, minElementBytes: %d)" % (json.dumps(c), elem_min))
        inner = indent + "    "
        lines.append(inner + "var %s: [%s] = []" % (tmp, f.element_swift_type()))
        lines.append(inner + "%s.reserveCapacity(count)" % tmp)
        lines.append(inner + "for _ in 0..<count {")
        if f.struct is not None:
            lines.append(inner + "    %s.append(try %s.decode(from: &reader, version: version))" % (tmp, f.struct.name))
        elif f.element == "string":
            lines.append(inner + "    %s.append(try reader.readString(field: %s))" % (tmp, json.dumps(c)))
        else:
            lines.append(inner + "    %s.append(try reader.%s())" % (tmp, PRIMITIVES[f.element][1]))
        lines.append(inner + "}")
        lines.append(inner + "%s = %s" % (target, tmp))
        if f.nullable is not None:
            lines.append(indent + "} else {")
            lines.append(indent + "    %s = nil" % target)
            lines.append(indent + "}")
        else:
            lines.append(indent + "}")
        return lines
    e = f.element
    if e in PRIMITIVES:
        if e == "bool":
            lines.append(indent + "%s = try reader.readBool(field: %s)" % (target, json.dumps(c)))
        else:
            lines.append(indent + "%s = try reader.%s()" % (target, PRIMITIVES[e][1]))
        return lines
    method = {"string": "String", "bytes": "Bytes", "records": "Records"}[e]
    if f.nullable is None:
        lines.append(indent + "%s = try reader.read%s(field: %s)" % (target, method, json.dumps(c)))
    else:
        cond_null = version_condition(f.nullable, f.present)
        nullable_read = "try reader.readNullable%s(field: %s)" % (method, json.dumps(c))
        if cond_null is None:
            lines.append(indent + "%s = %s" % (target, nullable_read))
        else:
            lines.append(indent + "%s = try (%s ? reader.readNullable%s(field: %s) : reader.read%s(field: %s))" % (
                target, cond_null, method, json.dumps(c), method, json.dumps(c)))
    return lines


def encode_value(f, indent, value):
    lines = []
    if f.is_array:
        if f.nullable is not None:
            cond_null = version_condition(f.nullable, f.present)
            lines.append(indent + "if let items = %s {" % value)
            lines.append(indent + "    writer.writeArrayCount(items.count)")
            lines.append(indent + "    for item in items {")
            lines.extend(encode_element(f, indent + "        ", "item"))
            lines.append(indent + "    }")
            lines.append(indent + "} else {")
            if cond_null is None:
                lines.append(indent + "    writer.writeNullArray()")
            else:
                lines.append(indent + "    if %s { writer.writeNullArray() } else { writer.writeArrayCount(0) }" % cond_null)
            lines.append(indent + "}")
        else:
            lines.append(indent + "writer.writeArrayCount(%s.count)" % value)
            lines.append(indent + "for item in %s {" % value)
            lines.extend(encode_element(f, indent + "    ", "item"))
            lines.append(indent + "}")
        return lines
    e = f.element
    if e in PRIMITIVES:
        lines.append(indent + "writer.%s(%s)" % (PRIMITIVES[e][2], value))
        return lines
    method = {"string": "String", "bytes": "Bytes", "records": "Records"}[e]
    if f.nullable is None:
        lines.append(indent + "writer.write%s(%s)" % (method, value))
    else:
        cond_null = version_condition(f.nullable, f.present)
        if cond_null is None:
            lines.append(indent + "writer.writeNullable%s(%s)" % (method, value))
        else:
            empty = '""' if e == "string" else "[]"
            lines.append(indent + "if %s { writer.writeNullable%s(%s) } else { writer.write%s(%s ?? %s) }" % (
                cond_null, method, value, method, value, empty))
    return lines


def encode_element(f, indent, item):
    if f.struct is not None:
        return [indent + "%s.encode(into: &writer, version: version)" % item]
    if f.element == "string":
        return [indent + "writer.writeString(%s)" % item]
    return [indent + "writer.%s(%s)" % (PRIMITIVES[f.element][2], item)]


def emit_struct(s, indent, top=None):
    """The Swift text of struct `s` (and its nested structs)."""
    out = []
    covered = s.covered
    if top is not None:
        kind, api_key, api_name, source = top
        out.append(indent + "/// %s (API key %d, %s), versions %d–%d." % (s.name, api_key, kind, covered[0], covered[1]))
        out.append(indent + "///")
        out.append(indent + "/// Generated from `Tools/kafka-codegen/%s` at the non-flexible versions" % source)
        out.append(indent + "/// above. A field absent at a version keeps its default when decoded and is not written")
        out.append(indent + "/// when encoded; a `nil` given for a field that is not nullable at the version is written")
        out.append(indent + "/// as empty.")
        out.append(indent + "public struct %s: KafkaMessage {" % s.name)
        out.append(indent + "    /// The API this message belongs to.")
        out.append(indent + "    public static let apiKey: KafkaAPIKey = .%s" % (api_name[0].lower() + api_name[1:]))
        out.append(indent + "    /// The versions this codec reads and writes.")
        out.append(indent + "    public static let versions: ClosedRange<Int16> = %d...%d" % covered)
    else:
        out.append(indent + "/// One element of `%s`." % s.context.split(".", 1)[-1])
        out.append(indent + "public struct %s: Sendable, Equatable {" % s.name)
    inner = indent + "    "
    for i, f in enumerate(s.fields):
        if i > 0 or top is not None:
            out.append("")
        about = f.about or f.spec_name
        out.extend(doc_lines("%s (%s%s)." % (about.rstrip("."), versions_text(f.present, covered),
                   "" if f.nullable is None else "; nullable at " + versions_text(f.nullable, covered)), inner))
        out.append(inner + "public var %s: %s" % (f.name, f.swift_type()))
    for n in s.nested():
        out.append("")
        out.extend(emit_struct(n, inner))
    # memberwise init with defaults
    out.append("")
    out.append(inner + "/// A value with the given fields; every field has the spec's default.")
    if s.fields:
        params = ", ".join("%s: %s = %s" % (f.name.strip("`"), f.swift_type(), f.default_literal()) for f in s.fields)
        out.append(inner + "public init(%s) {" % params)
        for f in s.fields:
            out.append(inner + "    self.%s = %s" % (f.name, f.name))
        out.append(inner + "}")
    else:
        out.append(inner + "public init() {}")
    # decode
    out.append("")
    out.append(inner + "/// Reads the fields present at `version`; the others keep their defaults.")
    out.append(inner + "///")
    out.append(inner + "/// - Throws: ``KafkaProtocolError`` when the bytes are truncated or a length, count or")
    out.append(inner + "///   value is out of range%s." % (", or when `version` is not covered" if top else ""))
    out.append(inner + "public static func decode(from reader: inout KafkaReader, version: Int16) throws(KafkaProtocolError) -> Self {")
    if top is not None:
        out.append(inner + "    guard versions.contains(version) else {")
        out.append(inner + "        throw .unsupportedVersion(apiKey: apiKey, version: version, supported: versions)")
        out.append(inner + "    }")
    out.append(inner + "    %s value = Self()" % ("var" if s.fields else "let"))
    for f in s.fields:
        cond = version_condition(f.present, covered)
        target = "value.%s" % f.name
        if cond is None:
            out.extend(decode_value(f, inner + "    ", target))
        else:
            out.append(inner + "    if %s {" % cond)
            out.extend(decode_value(f, inner + "        ", target))
            out.append(inner + "    }")
    out.append(inner + "    return value")
    out.append(inner + "}")
    # encode
    out.append("")
    out.append(inner + "/// Writes the fields present at `version`.")
    if top is not None:
        out.append(inner + "///")
        out.append(inner + "/// - Precondition: `version` is in ``versions``.")
    out.append(inner + "public func encode(into writer: inout KafkaWriter, version: Int16) {")
    if top is not None:
        out.append(inner + "    precondition(Self.versions.contains(version), \"%s v\\(version) is outside \\(Self.versions)\")" % s.name)
    for f in s.fields:
        cond = version_condition(f.present, covered)
        value = "self.%s" % f.name
        if cond is None:
            out.extend(encode_value(f, inner + "    ", value))
        else:
            out.append(inner + "    if %s {" % cond)
            out.extend(encode_value(f, inner + "        ", value))
            out.append(inner + "    }")
    out.append(inner + "}")
    out.append(indent + "}")
    return out


# Random instances for the round-trip tests -----------------------------------------------------

def random_value(f, indent, target, version_var="version"):
    lines = []
    null_cond = None
    if f.nullable is not None:
        null_cond = version_condition(f.nullable, f.present) or "true"
    def element_expr():
        if f.struct is not None:
            return "%s.random(version: version, using: &rng)" % f.struct.qualified
        e = f.element
        if e in PRIMITIVES:
            return "rng.next%s()" % PRIMITIVES[e][0] if e != "bool" else "rng.nextBool()"
        if e == "string":
            return "rng.nextString()"
        if e == "bytes":
            return "rng.nextBytes()"
        if e == "records":
            return "ArraySlice(rng.nextBytes())"
    if f.is_array:
        expr = "(0..<rng.nextCount()).map { _ in %s }" % element_expr()
    else:
        expr = element_expr()
    if null_cond is not None:
        lines.append(indent + "%s = %s && rng.nextBool() ? nil : %s" % (target, null_cond, expr))
    else:
        lines.append(indent + "%s = %s" % (target, expr))
    return lines


def emit_random(s, out, qualified):
    s.qualified = qualified
    for n in s.nested():
        emit_random(n, out, qualified + "." + n.name)
    out.append("extension %s: RandomlyGenerated {" % qualified)
    out.append("    static func random(version: Int16, using rng: inout SplitMix64) -> Self {")
    out.append("        %s value = Self()" % ("var" if s.fields else "let"))
    for f in s.fields:
        cond = version_condition(f.present, s.covered)
        target = "value.%s" % f.name
        if cond is None:
            out.extend(random_value(f, "        ", target))
        else:
            out.append("        if %s {" % cond)
            out.extend(random_value(f, "            ", target))
            out.append("        }")
    out.append("        return value")
    out.append("    }")
    out.append("}")
    out.append("")


def mark_qualified(s, qualified):
    s.qualified = qualified
    for n in s.nested():
        mark_qualified(n, qualified + "." + n.name)


# ---------------------------------------------------------------------------------------------

def lower_first(name):
    return name[0].lower() + name[1:]


def generate():
    with open(os.path.join(HERE, "apis.json")) as f:
        config = json.load(f)
    with open(os.path.join(SPEC_DIR, "SOURCE")) as f:
        source_commit = f.read().split()[0]
    files = {}
    apis = []
    random_out = [HEADER.format(source="the specs in Tools/kafka-codegen/spec").rstrip("\n"),
                  "@testable import KafkaProtocol", ""]
    for api in config["apis"]:
        covered = parse_versions(api["versions"])
        entry = {"key": api["key"], "name": api["name"], "covered": covered}
        for kind in ("Request", "Response"):
            spec_name = api["name"] + kind
            local = api.get("spec") == "local"
            spec = load_spec(spec_name, local)
            if spec["apiKey"] != api["key"] or spec["type"] != kind.lower():
                raise SpecError("%s.json: apiKey %s type %s, expected %s %s" % (spec_name, spec["apiKey"], spec["type"], api["key"], kind.lower()))
            valid = parse_versions(spec["validVersions"])
            if intersect(valid, covered) != covered:
                raise SpecError("%s: versions %s are not all valid (%s)" % (spec_name, api["versions"], spec["validVersions"]))
            flexible = parse_versions(spec.get("flexibleVersions", "none"))
            if intersect(flexible, covered) is not None:
                raise SpecError("%s: versions %s include flexible ones (%s)" % (spec_name, api["versions"], spec["flexibleVersions"]))
            entry["flexible_from"] = None if flexible is None else flexible[0]
            s = Struct(spec_name, spec["fields"], covered, spec_name)
            source = ("spec-local/%s.json (written for logd)" % spec_name if local
                      else "spec/%s.json (apache/kafka %s)" % (spec_name, source_commit[:12]))
            text = [HEADER.format(source=source).rstrip("\n"), ""]
            text.extend(emit_struct(s, "", top=(kind.lower(), api["key"], api["name"],
                                                ("spec-local/" if local else "spec/") + spec_name + ".json")))
            files[os.path.join(SOURCE_OUT, spec_name + ".swift")] = "\n".join(text) + "\n"
            mark_qualified(s, spec_name)
            emit_random(s, random_out, spec_name)
        apis.append(entry)
    files[os.path.join(SOURCE_OUT, "KafkaAPIKey+Generated.swift")] = emit_api_file(apis, source_commit)
    random_out.append("/// Every generated message type, for the round-trip tests.")
    random_out.append("let generatedMessages: [MessageCase] = [")
    for a in apis:
        for kind in ("Request", "Response"):
            random_out.append("    MessageCase(%s%s.self)," % (a["name"], kind))
    random_out.append("]")
    files[os.path.join(TEST_OUT, "RandomMessages.swift")] = "\n".join(random_out) + "\n"
    return files


def emit_api_file(apis, source_commit):
    o = [HEADER.format(source="Tools/kafka-codegen/apis.json (apache/kafka %s)" % source_commit[:12]).rstrip("\n"), ""]
    o.append("extension KafkaAPIKey {")
    for a in apis:
        o.append("    /// %s (key %d)." % (a["name"], a["key"]))
        o.append("    public static let %s = KafkaAPIKey(rawValue: %d)" % (lower_first(a["name"]), a["key"]))
    o.append("")
    o.append("    /// Every API the generated codecs cover, in key order.")
    o.append("    public static let covered: [KafkaAPIKey] = [%s]" % ", ".join("." + lower_first(a["name"]) for a in apis))
    o.append("")
    o.append("    /// The API's name as Kafka spells it (`Produce`), or `nil` for a key the codecs do not cover.")
    o.append("    public var name: String? {")
    o.append("        switch rawValue {")
    for a in apis:
        o.append("        case %d: %s" % (a["key"], json.dumps(a["name"])))
    o.append("        default: nil")
    o.append("        }")
    o.append("    }")
    o.append("")
    o.append("    /// The versions the generated codecs read and write, or `nil` for a key they do not cover.")
    o.append("    public var codecVersions: ClosedRange<Int16>? {")
    o.append("        switch rawValue {")
    for a in apis:
        o.append("        case %d: %d...%d" % (a["key"], a["covered"][0], a["covered"][1]))
    o.append("        default: nil")
    o.append("        }")
    o.append("    }")
    o.append("")
    o.append("    /// The first flexible version of the API (request header v2, compact encodings, tagged")
    o.append("    /// fields), per its spec; `nil` for a key the codecs do not cover.")
    o.append("    public var firstFlexibleVersion: Int16? {")
    o.append("        switch rawValue {")
    for a in apis:
        if a["flexible_from"] is not None:
            o.append("        case %d: %d" % (a["key"], a["flexible_from"]))
    o.append("        default: nil")
    o.append("        }")
    o.append("    }")
    o.append("}")
    for kind in ("Request", "Response"):
        lk = kind.lower()
        o.append("")
        o.append("/// A decoded %s body of any API the codecs cover." % lk)
        o.append("public enum Kafka%s: Sendable, Equatable {" % kind)
        for a in apis:
            o.append("    /// A %s %s." % (a["name"], lk))
            o.append("    case %s(%s%s)" % (lower_first(a["name"]), a["name"], kind))
        o.append("")
        o.append("    /// The API of this %s." % lk)
        o.append("    public var apiKey: KafkaAPIKey {")
        o.append("        switch self {")
        for a in apis:
            o.append("        case .%s: .%s" % (lower_first(a["name"]), lower_first(a["name"])))
        o.append("        }")
        o.append("    }")
        o.append("")
        o.append("    /// Reads the %s body of `apiKey` at `version`." % lk)
        o.append("    ///")
        o.append("    /// - Throws: ``KafkaProtocolError`` with code `unsupportedVersion` for an API or version the")
        o.append("    ///   codecs do not cover, or any decoding error of the body.")
        o.append("    public static func decode(apiKey: KafkaAPIKey, version: Int16, from reader: inout KafkaReader) throws(KafkaProtocolError) -> Self {")
        o.append("        switch apiKey.rawValue {")
        for a in apis:
            o.append("        case %d: .%s(try %s%s.decode(from: &reader, version: version))" % (a["key"], lower_first(a["name"]), a["name"], kind))
        o.append("        default: throw .unsupportedVersion(apiKey: apiKey, version: version, supported: nil)")
        o.append("        }")
        o.append("    }")
        o.append("")
        o.append("    /// Writes the body at `version`.")
        o.append("    ///")
        o.append("    /// - Precondition: `version` is covered by the codec of the %s's API." % lk)
        o.append("    public func encode(into writer: inout KafkaWriter, version: Int16) {")
        o.append("        switch self {")
        for a in apis:
            o.append("        case .%s(let body): body.encode(into: &writer, version: version)" % lower_first(a["name"]))
        o.append("        }")
        o.append("    }")
        o.append("}")
    return "\n".join(o) + "\n"


def write_files(files, check):
    stale = []
    for path, text in sorted(files.items()):
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            stale.append(path)
            if not check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    # Generated files that no longer have a source.
    for out_dir in (SOURCE_OUT, TEST_OUT):
        if os.path.isdir(out_dir):
            for name in os.listdir(out_dir):
                path = os.path.join(out_dir, name)
                if path not in files:
                    stale.append(path)
                    if not check:
                        os.remove(path)
    return stale


def import_specs(git_dir, commit):
    with open(os.path.join(HERE, "apis.json")) as f:
        config = json.load(f)
    names = [a["name"] + k for a in config["apis"] if a.get("spec") != "local"
             for k in ("Request", "Response")] + config["headers"]
    full = subprocess.check_output(["git", "-C", git_dir, "rev-parse", commit + "^{commit}"], text=True).strip()
    os.makedirs(SPEC_DIR, exist_ok=True)
    for n in names:
        data = subprocess.check_output(["git", "-C", git_dir, "show", "%s:%s/%s.json" % (full, KAFKA_SPEC_PATH, n)])
        with open(os.path.join(SPEC_DIR, n + ".json"), "wb") as f:
            f.write(data)
    with open(os.path.join(SPEC_DIR, "SOURCE"), "w") as f:
        f.write("%s apache/kafka %s\n" % (full, KAFKA_SPEC_PATH))
    print("copied %d specs from %s at %s" % (len(names), git_dir, full))


def main(argv):
    if len(argv) >= 1 and argv[0] == "import-specs" and len(argv) == 3:
        import_specs(argv[1], argv[2])
        return 0
    if len(argv) >= 1 and argv[0] == "generate":
        check = "--check" in argv[1:]
        try:
            files = generate()
        except SpecError as e:
            print("kafka-codegen: %s" % e, file=sys.stderr)
            return 1
        stale = write_files(files, check)
        if check:
            if stale:
                print("kafka-codegen: the generated code is out of date; run `make kafka-codegen`:", file=sys.stderr)
                for p in stale:
                    print("  " + os.path.relpath(p, ROOT), file=sys.stderr)
                return 1
            print("kafka-codegen: %d generated files are up to date" % len(files))
        else:
            print("kafka-codegen: wrote %d of %d files" % (len(stale), len(files)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
