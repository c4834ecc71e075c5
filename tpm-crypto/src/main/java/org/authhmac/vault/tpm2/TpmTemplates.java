package org.authhmac.vault.tpm2;

import tss.tpm.TPM2B_DIGEST_KEYEDHASH;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMS_KEYEDHASH_PARMS;
import tss.tpm.TPMS_NULL_ASYM_SCHEME;
import tss.tpm.TPMS_NULL_KDF_SCHEME;
import tss.tpm.TPMS_SCHEME_HMAC;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SYM_DEF_OBJECT;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

/** The public templates of our TPM objects. Both are fixedTPM and fixedParent: a blob copied to another machine does not load there. */
public final class TpmTemplates {
    private static final byte[] EMPTY = new byte[0];

    private TpmTemplates() {
    }

    /** The owner-hierarchy storage key: ECC P-256, AES-128-CFB, restricted decrypt, fixedTPM/fixedParent. */
    public static TPMT_PUBLIC storageKey() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.sensitiveDataOrigin,
                        TPMA_OBJECT.userWithAuth, TPMA_OBJECT.noDA, TPMA_OBJECT.restricted, TPMA_OBJECT.decrypt),
                EMPTY,
                new TPMS_ECC_PARMS(new TPMT_SYM_DEF_OBJECT(TPM_ALG_ID.AES, 128, TPM_ALG_ID.CFB),
                        new TPMS_NULL_ASYM_SCHEME(), TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(EMPTY, EMPTY));
    }

    /** An imported HMAC-SHA256 key (sensitiveDataOrigin clear: the secret comes from outside, the peer has it too). */
    static TPMT_PUBLIC hmacKey() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.userWithAuth,
                        TPMA_OBJECT.noDA, TPMA_OBJECT.sign),
                EMPTY,
                new TPMS_KEYEDHASH_PARMS(new TPMS_SCHEME_HMAC(TPM_ALG_ID.SHA256)),
                new TPM2B_DIGEST_KEYEDHASH(EMPTY));
    }
}
