package org.authhmac.protocol;

import java.util.Optional;

/**
 * The outcome of verifying one message: one of the RFC 8601 results, always with a {@link Reason}.
 * {@code signature()} is the header that decided the outcome, when there was one that could be parsed.
 */
public sealed interface Verdict {
    AuthResult result();

    Reason reason();

    Optional<SignatureHeader> signature();

    /** A human-readable detail for logs; never contains key material. */
    String detail();

    record Pass(SignatureHeader header) implements Verdict {
        public AuthResult result() { return AuthResult.PASS; }
        public Reason reason() { return Reason.VERIFIED; }
        public Optional<SignatureHeader> signature() { return Optional.of(header); }
        public String detail() { return "verified"; }
    }

    record Fail(Reason reason, Optional<SignatureHeader> signature, String detail) implements Verdict {
        public AuthResult result() { return AuthResult.FAIL; }
    }

    record None() implements Verdict {
        public AuthResult result() { return AuthResult.NONE; }
        public Reason reason() { return Reason.NO_SIGNATURE; }
        public Optional<SignatureHeader> signature() { return Optional.empty(); }
        public String detail() { return "no signature header"; }
    }

    record Neutral(Reason reason, Optional<SignatureHeader> signature, String detail) implements Verdict {
        public AuthResult result() { return AuthResult.NEUTRAL; }
    }

    record TempError(Reason reason, Optional<SignatureHeader> signature, String detail) implements Verdict {
        public AuthResult result() { return AuthResult.TEMPERROR; }
    }

    record PermError(Reason reason, Optional<SignatureHeader> signature, String detail) implements Verdict {
        public AuthResult result() { return AuthResult.PERMERROR; }
    }
}
