package org.authhmac.james.mailets;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepositoryUrl;

/**
 * The WebAdmin call that sends a held mail on past the validation step (docs/OPERATIONS.md). It is an internal
 * command: only the postmaster's notice carries it. It sends {@code $WEBADMIN_TOKEN} as its bearer token, as a
 * WebAdmin with JWT on (needed by the mailbox-key route) asks; a WebAdmin without authentication ignores it.
 */
record ReleaseCommand(String webAdminUrl, MailRepositoryUrl repository, String processor) {

    String forKey(MailKey key) {
        try {
            return command(key);
        } catch (java.io.UnsupportedEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private String command(MailKey key) throws java.io.UnsupportedEncodingException {
        return "curl -XPATCH '" + webAdminUrl + "/mailRepositories/" + repository.getPath().urlEncoded()
                + "/mails/" + URLEncoder.encode(key.asString(), StandardCharsets.UTF_8).replace("+", "%20")
                + "?action=reprocess&processor=" + processor + "' -H \"Authorization: Bearer $WEBADMIN_TOKEN\"";
    }
}
