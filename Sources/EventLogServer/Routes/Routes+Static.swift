import Hummingbird
import NIOCore

extension Routes {
    /// `GET /logd.js`, the browser helper (``StaticFiles/logdJS``), and `GET /console`, the
    /// web console (``StaticFiles/consoleHTML``): no token needed to load them (they hold
    /// nothing secret; the console asks for a token and sends it with its API calls),
    /// cached for five minutes.
    func addStaticRoutes(to router: Router<Context>) {
        let script = ByteBuffer(string: StaticFiles.logdJS)
        let console = ByteBuffer(string: StaticFiles.consoleHTML)
        router.get("/logd.js") { _, _ -> Response in
            Response(status: .ok,
                     headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=300"],
                     body: .init(byteBuffer: script))
        }
        router.get("/console") { _, _ -> Response in
            Response(status: .ok,
                     headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "public, max-age=300",
                               .init("X-Frame-Options")!: "DENY", .init("X-Content-Type-Options")!: "nosniff"],
                     body: .init(byteBuffer: console))
        }
    }
}
