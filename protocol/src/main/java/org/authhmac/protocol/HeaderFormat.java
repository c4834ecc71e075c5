package org.authhmac.protocol;

/**
 * One version of the signature header, v= (docs/PROTOCOL.md, "Header"): how its tag list is read and written, and
 * the label its period keys are derived under. Each version is one implementation, listed in {@link HeaderVersions}.
 */
interface HeaderFormat {

    /** The v= value. */
    int version();

    /** The SP 800-108 Label of the period-key derivation for signatures of this version. */
    String kdfLabel();

    /**
     * The tag list a signer writes. With a null or empty {@code mac} it ends in "b=", the form the MAC is computed
     * over.
     */
    String format(SignatureHeader header);

    /**
     * The header a tag list carries, v= already read as this version. Unknown tags are ignored.
     *
     * @throws SignatureFormatException with reason malformed or unsupported-algorithm
     */
    SignatureHeader parse(TagList tags) throws SignatureFormatException;
}
