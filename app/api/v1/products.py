"""/api/v1/products and their certifications, through app/services/products.py."""
from flask import url_for
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select

from app.api.v1.access import coop_id
from app.api.v1.blueprints import resource_blueprint
from app.api.v1.conditional import IDEMPOTENCY_DOC, IF_MATCH_DOC, etag_header, idempotent, require_current
from app.api.v1.paging import PageQuerySchema, page_schema, paginate
from app.models import Certification, Product
from app.schemas.resources import CertificationSchema, ProductFilterSchema, ProductSchema
from app.services import products
from app.services.errors import NotFound

blp = resource_blueprint("products", "A cooperative's products and their certifications (VietGAP, organic…).")


class ProductListQuerySchema(PageQuerySchema, ProductFilterSchema):
    pass


@blp.route("/products")
class ProductList(MethodView):
    @blp.arguments(ProductListQuerySchema, location="query")
    @blp.response(200, page_schema(ProductSchema))
    def get(self, args):
        """The cooperative's products, oldest first; archived ones only with include_archived."""
        stmt = select(Product).where(Product.cooperative_id == coop_id())
        if not args["include_archived"]:
            stmt = stmt.where(Product.is_archived.is_(False))
        return paginate(stmt, Product.id, args)

    @idempotent
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.arguments(ProductSchema)
    @blp.response(201, ProductSchema)
    def post(self, values):
        """Create a product. Send an Idempotency-Key to retry safely."""
        product = products.create_product(coop_id(), values, current_user.id)
        return product, 201, {"Location": url_for(".ProductItem", product_id=product.id, _external=True)}


@blp.route("/products/<id:product_id>")
class ProductItem(MethodView):
    @blp.response(200, ProductSchema)
    def get(self, product_id):
        """One product, with its ETag."""
        product = products.get_product(coop_id(), product_id)
        return product, 200, etag_header(product)

    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(ProductSchema(partial=True))
    @blp.response(200, ProductSchema)
    def patch(self, values, product_id):
        """Change some fields. If-Match is required."""
        require_current(products.get_product(coop_id(), product_id))
        product = products.update_product(coop_id(), product_id, values, current_user.id)
        return product, 200, etag_header(product)

    @blp.doc(**IF_MATCH_DOC)
    @blp.response(204)
    def delete(self, product_id):
        """Archive the product (stamps may name it, so it is never erased). If-Match is required."""
        require_current(products.get_product(coop_id(), product_id))
        products.set_archived(coop_id(), product_id, True, current_user.id)


@blp.route("/products/<id:product_id>/certifications")
class CertificationList(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(CertificationSchema))
    def get(self, args, product_id):
        """The product's certifications."""
        product = products.get_product(coop_id(), product_id)
        return paginate(select(Certification).where(Certification.product_id == product.id), Certification.id, args)

    @idempotent
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.arguments(CertificationSchema)
    @blp.response(201, CertificationSchema)
    def post(self, values, product_id):
        """Add a certification. Send an Idempotency-Key to retry safely."""
        cert = products.add_certification(coop_id(), product_id, values, current_user.id)
        location = url_for(".CertificationItem", product_id=product_id, cert_id=cert.id, _external=True)
        return cert, 201, {"Location": location}


@blp.route("/products/<id:product_id>/certifications/<id:cert_id>")
class CertificationItem(MethodView):
    @blp.response(200, CertificationSchema)
    def get(self, product_id, cert_id):
        """One certification, with its ETag."""
        cert = _certification(product_id, cert_id)
        return cert, 200, etag_header(cert)

    @blp.doc(**IF_MATCH_DOC)
    @blp.response(204)
    def delete(self, product_id, cert_id):
        """Remove a certification. If-Match is required."""
        require_current(_certification(product_id, cert_id))
        products.remove_certification(coop_id(), product_id, cert_id, current_user.id)


def _certification(product_id: int, cert_id: int) -> Certification:
    product = products.get_product(coop_id(), product_id)
    cert = next((c for c in product.certifications if c.id == cert_id), None)
    if cert is None:
        raise NotFound
    return cert
