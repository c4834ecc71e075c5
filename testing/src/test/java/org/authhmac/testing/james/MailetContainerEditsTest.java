package org.authhmac.testing.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MailetContainerEditsTest {
    @Test
    void theShippedReceivingConfigurationsWebAdminUrlBecomesTheGivenOneAndNothingElseChanges() throws Exception {
        String shipped = Files.readString(Path.of("..", "james-conf", "receiving", "mailetcontainer.xml"));
        assertThat(shipped).contains("<webAdminUrl>http://127.0.0.1:8000</webAdminUrl>");

        String edited = MailetContainerEdits.webAdminUrl(shipped, "http://127.0.0.1:24718");

        assertThat(edited).contains("<webAdminUrl>http://127.0.0.1:24718</webAdminUrl>").doesNotContain(":8000");
        assertThat(edited.replace("http://127.0.0.1:24718", "http://127.0.0.1:8000")).isEqualTo(shipped);
    }

    @Test
    void aConfigurationWithoutWebAdminUrlIsLeftAsItIs() {
        String xml = "<mailetcontainer><processors/></mailetcontainer>";

        assertThat(MailetContainerEdits.webAdminUrl(xml, "http://127.0.0.1:1")).isEqualTo(xml);
    }
}
