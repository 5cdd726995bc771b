// The header's declaration is all this target provides; libFuzzer supplies the definition.
