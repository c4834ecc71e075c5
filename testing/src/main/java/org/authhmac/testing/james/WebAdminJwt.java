package org.authhmac.testing.james;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.Map;

/**
 * WebAdmin authentication as docs/INSTALL.md section 6 turns it on: an RSA key pair whose public half James reads from
 * {@code conf/jwt_publickey} ({@code jwt.enabled=true}), and admin tokens signed with the private half (RS256,
 * {@code "admin": true}). The mailbox-key route issues keys only on such a WebAdmin.
 */
public final class WebAdminJwt {
    public static final String PUBLIC_KEY_FILE = "jwt_publickey";

    private final KeyPair keys;

    private WebAdminJwt(KeyPair keys) {
        this.keys = keys;
    }

    public static WebAdminJwt generate() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return new WebAdminJwt(g.generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The content of {@code conf/jwt_publickey}. */
    public String publicKeyPem() {
        return "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(keys.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    /** The keys of {@code webadmin.properties} that turn JWT on with {@link #publicKeyPem()} in conf/. */
    public static Map<String, String> webAdminProperties() {
        return Map.of("jwt.enabled", "true", "jwt.publickeypem.url", "file://conf/" + PUBLIC_KEY_FILE);
    }

    /** An admin token for {@code subject} (no expiry: for servers that live as long as a test or a demo). */
    public String adminToken(String subject) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String claims = b64.encodeToString(("{\"sub\":\"" + subject + "\",\"admin\":true}").getBytes(StandardCharsets.UTF_8));
        try {
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initSign(keys.getPrivate());
            s.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
            return header + "." + claims + "." + b64.encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
