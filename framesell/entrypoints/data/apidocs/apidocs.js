// Starts Swagger UI on the API's own OpenAPI document (kept out of index.html: the page's
// Content-Security-Policy allows no inline script).
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: new URL("../openapi.json", window.location.href).href,
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // No badge fetched from validator.swagger.io: the page talks to this server only.
    validatorUrl: null,
    // Keep the token typed into "Authorize" while the page is open (not stored).
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
