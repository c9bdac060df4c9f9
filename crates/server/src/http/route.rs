//! Resources that know their methods: every `GET` route also serves `HEAD` (actix sends
//! no body for it), and any other method answers 405 with an `Allow` header (RFC 9110
//! 15.5.6) in the family's envelope `E`.

use std::marker::PhantomData;

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::header::{HeaderValue, ALLOW};
use actix_web::http::Method;
use actix_web::{guard, web, FromRequest, Handler, Resource, Responder, ResponseError};

use super::HttpError;

/// A resource being declared; register it with `cfg.service(...)`.
pub struct Res<E> {
    resource: Resource,
    methods: Vec<Method>,
    family: PhantomData<fn() -> E>,
}

/// A resource at `path` whose 405 is rendered by the family error `E`.
pub fn resource<E>(path: &str) -> Res<E> {
    Res {
        resource: web::resource(path),
        methods: Vec::new(),
        family: PhantomData,
    }
}

macro_rules! method {
    ($name:ident, $method:expr) => {
        pub fn $name<F, Args>(self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.on($method, handler)
        }
    };
}

impl<E> Res<E> {
    method!(get, Method::GET);
    method!(post, Method::POST);
    method!(put, Method::PUT);
    method!(patch, Method::PATCH);
    method!(delete, Method::DELETE);

    fn on<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = if method == Method::GET {
            self.methods.push(Method::HEAD);
            web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
        } else {
            web::route().method(method.clone())
        };
        self.methods.push(method);
        self.resource = self.resource.route(route.to(handler));
        self
    }

    /// The `Allow` value: the served methods in a stable order.
    fn allow(&self) -> String {
        let order = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ];
        order
            .iter()
            .filter(|m| self.methods.contains(m))
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<E> HttpServiceFactory for Res<E>
where
    E: From<HttpError> + ResponseError + 'static,
{
    fn register(self, config: &mut AppService) {
        let allow = HeaderValue::from_str(&self.allow()).ok();
        let resource = self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move {
                let mut response = E::from(HttpError::MethodNotAllowed).error_response();
                if let Some(allow) = allow {
                    response.headers_mut().insert(ALLOW, allow);
                }
                response
            }
        }));
        resource.register(config);
    }
}
