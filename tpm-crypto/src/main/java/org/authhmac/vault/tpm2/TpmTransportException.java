package org.authhmac.vault.tpm2;

/** The connection to the TPM broke (emulator gone, device closed): reconnecting may help, the key is not at fault. */
public class TpmTransportException extends RuntimeException {
    public TpmTransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
