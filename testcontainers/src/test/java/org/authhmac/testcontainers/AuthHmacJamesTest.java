package org.authhmac.testcontainers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What AuthHmacJames writes into a container, without a container. */
class AuthHmacJamesTest {
    @Test
    void roleFilesAreEveryFileOfBothJamesConfRoles() throws IOException {
        for (String role : new String[] {"sending", "receiving"}) {
            try (Stream<Path> files = Files.list(Path.of("../james-conf", role))) {
                assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrderElementsOf(AuthHmacJames.Role.FILES);
            }
        }
    }

    @Test
    void aReceivingServerOfOtherDomainsVerifiesItsOwnPartnerUnderItsOwnKeyset() {
        // given a receiving server for mx.example.org whose partner is example.com
        AuthHmacJames james = new AuthHmacJames(AuthHmacJames.DEFAULT_IMAGE, AuthHmacJames.Role.RECEIVING, "example.org")
                .withPartner("example.com", "com-org");

        // when its partner file is adapted from james-conf/receiving
        String partners = james.adapted("auth-hmac-partners.properties", AuthHmacJames.Role.RECEIVING.file("auth-hmac-partners.properties"));

        // then the shipped pair's names are gone
        assertThat(partners).contains("authservId=mx.example.org", "partner.example.com.keyset=com-org")
                .doesNotContain("a.example", "b.example", "a-b");
    }

    @Test
    void aSendingServerSwapsTheShippedDomainsWhenItIsTheShippedReceiver() {
        // given the shipped names the other way round: a sending b.example whose partner is a.example
        AuthHmacJames james = AuthHmacJames.sending("b.example").withPartner("a.example", "b-a");

        // when its mailet container is adapted from james-conf/sending
        String mailets = james.adapted("mailetcontainer.xml", AuthHmacJames.Role.SENDING.file("mailetcontainer.xml"));

        // then it signs for b.example, not for a.example
        assertThat(mailets).contains("<signingDomain>b.example</signingDomain>", "postmaster@b.example")
                .doesNotContain("<signingDomain>a.example</signingDomain>");
    }

    @Test
    void propertiesAreSetInPlaceAndMissingOnesAppended() {
        String text = "# vault\ntpm.host=127.0.0.1\ntpm.port=2321\n";

        String edited = AuthHmacJames.withProperties(text, Map.of("tpm.port", "4000", "tpm.timeoutMillis", "9000"));

        assertThat(edited).isEqualTo("# vault\ntpm.host=127.0.0.1\ntpm.port=4000\ntpm.timeoutMillis=9000\n");
    }
}
