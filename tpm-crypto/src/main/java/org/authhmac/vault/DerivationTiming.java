package org.authhmac.vault;

/**
 * Times each key derivation that reaches the backend (one TPM2_HMAC for the TPM backend), for a latency metric:
 * {@link #started} is called before it and returns what ends the timing, run after it whatever its outcome.
 */
@FunctionalInterface
public interface DerivationTiming {
    Runnable started();
}
